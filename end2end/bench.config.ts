// The browser benchmarks (scripts/bench-progress): the journeys' configuration, their own folder.
import { defineConfig } from '@playwright/test';
import journeys from './playwright.config';

export default defineConfig({ ...journeys, testDir: './bench', timeout: 600_000 });
