import type { Command } from 'commander';
import { LarderError } from '../../errors.ts';
import { formatSpecIssues, SpecValidationError } from '../../registry/load.ts';
import { parseRegistrySource } from '../../registry/registry-source.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { openRegistrySource } from '../../runtime/registry/registry-sources.ts';

export function register(program: Command): void {
  program
    .command('validate')
    .description('Validate a registry directory; report every problem with file:line:column.')
    .argument('[dir]', 'registry directory (YAML files); or --registry <dir>')
    .option('--registry <dir>', 'registry directory (YAML files), or git+<url>#<branch>:<subdir>')
    .option('--config <file>', 'config file: the registry.git credentials (default: LARDER_CONFIG)')
    .action(async (positional: string | undefined, options: { registry?: string; config?: string }) => {
      if (positional !== undefined && options.registry !== undefined && positional !== options.registry) {
        throw new LarderError(
          'LARDER_ERR_BAD_ARGUMENT',
          `two registries given ("${positional}" and --registry "${options.registry}"); give one`,
        );
      }
      const dir = options.registry ?? positional;
      if (dir === undefined) {
        throw new LarderError(
          'LARDER_ERR_BAD_ARGUMENT',
          'name the registry: larder validate --registry <dir>',
        );
      }
      // A git+ registry is validated at its branch head, checked out as every process does.
      const source = await openRegistrySource(
        parseRegistrySource(dir),
        dir.startsWith('git+') ? readConfig(options.config).registry?.git : undefined,
      );
      try {
        // The acceptance serve and every reload use: what passes here serves.
        const { registry } = await source.head();
        const byEntity = [...registry.featuresByEntity].map(
          ([entity, features]) => `${entity} (${features.size})`,
        );
        process.stdout.write(
          `registry ${dir} is valid: ${registry.entities.size} entities, ${registry.streams.size} streams, ` +
            `${registry.features.length} features [${byEntity.join(', ')}]` +
            (registry.enrichers.size === 0 ? '' : `, ${registry.enrichers.size} enrichers`) +
            `, version ${registry.version.slice(0, 12)}\n`,
        );
        if (registry.warnings.length > 0) process.stderr.write(`${formatSpecIssues(registry.warnings)}\n`);
      } catch (err) {
        if (err instanceof SpecValidationError) {
          process.stderr.write(
            `${formatSpecIssues(err.issues)}\n${err.issues.length} problem(s) in ${dir}\n`,
          );
          process.exitCode = 1;
          return;
        }
        throw err;
      } finally {
        await source.close();
      }
    });
}
