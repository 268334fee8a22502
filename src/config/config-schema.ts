import { z } from 'zod';
import { registrySection } from './registry-section.ts';
import { batchSection } from './batch-section.ts';
import { cacheSection } from './cache-section.ts';
import { enrichSection } from './enrich-section.ts';
import { serveSection } from './serve-section.ts';
import { storeSection } from './store-section.ts';
import { streamsSection } from './streams-section.ts';

/**
 * The whole config file, one strict schema: an unknown key at any level is an error (the keys
 * inside `streams.<name>.connection` and `.options` belong to the stream's adapter). Each section
 * is described in its own module; docs/configuration.md shows them all.
 */
export const configFileSchema = z
  .object(
    {
      store: storeSection.optional(),
      cache: cacheSection.optional(),
      streams: streamsSection.optional(),
      serve: serveSection.optional(),
      batch: batchSection.optional(),
      enrich: enrichSection.optional(),
      registry: registrySection.optional(),
    },
    { error: 'must be a map of sections (store, cache, streams, serve, batch, enrich, registry)' },
  )
  .strict();

export type ConfigFile = z.output<typeof configFileSchema>;
