/** Unit specs sit beside the code; integration tests in test/integration share one real broker. */
// tfjs-node's TensorFlow prints its CPU-feature banner unless this is set before it loads; jest gives
// each test file a copy of process.env that native code does not read, so it is set here, for the workers.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const transform = { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
module.exports = {
  // Integration tests wait on a real broker; unit tests finish far below this anyway.
  testTimeout: 180000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/{common,schemas,producers,consumers,model,gateway,stack,cli,deploy}/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
};
