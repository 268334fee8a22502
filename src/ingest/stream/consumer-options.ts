/**
 * The stream option schema lives in the registry layer (`registry/stream-options.ts`), so that
 * `larder validate` checks options with the rest of the registry. Re-exported here for the adapters
 * that still import it from beside them.
 */
export {
  DEFAULT_CONSUMER_OPTIONS,
  duration,
  optionalString,
  optionError,
  positiveInt,
  readConsumerOptions,
  type ConsumerOptions,
} from '../../registry/stream-options.ts';
