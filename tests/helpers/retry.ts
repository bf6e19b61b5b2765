// Integration and e2e tests run real processes (redis-server, mediasoup workers, ffmpeg,
// Chromium) on a machine that may be loaded by the rest of the suite. A race lost to the
// scheduler rather than to the product is given one more run; the first run's error is
// printed, and scripts/test.mjs lists every test that passed only on its second run, so
// a flaky test stays visible instead of silently green.
jest.retryTimes(1, { logErrorsBeforeRetry: true });
