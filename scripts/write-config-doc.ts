// Rewrites the settings table of docs/configuration.md from the config schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_DOC, withSettingsTable } from '../src/config/reference.js';

writeFileSync(CONFIG_DOC, withSettingsTable(readFileSync(CONFIG_DOC, 'utf8')));
console.log(`${CONFIG_DOC}: settings table written`);
