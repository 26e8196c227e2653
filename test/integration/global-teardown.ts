import { existsSync, readFileSync } from 'node:fs';
import { loadConfig } from '../../common/config';
import { stackDown } from '../../stack/stack';
import { stateFile } from './harness';
import { stackEnv } from './global-setup';

/** Stops the stack only when this test run started it (a developer's running stack stays up). */
export default async function globalTeardown(): Promise<void> {
  const compose = (globalThis as { tridentCompose?: { down(): Promise<unknown> } }).tridentCompose;
  if (compose) await compose.down();
  if (!existsSync(stateFile)) return;
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { startedByTests: boolean };
  if (state.startedByTests && process.env.TRIDENT_TEST_KEEP_STACK !== '1') {
    // The same stack settings as the setup used (TRIDENT_STACK_* may move it to other ports and folders).
    await stackDown(loadConfig({ env: stackEnv() }));
  }
}
