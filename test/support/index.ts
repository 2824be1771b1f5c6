// The harness of the end-to-end, reliability and benchmark suites: the whole system in process or as
// child processes, on its own database and key prefix. Generic helpers come from @nest-hardening/testing.
export * from '@nest-hardening/testing';
export * from './fuzz-suite';
export * from './process-system';
export * from './test-database';
export * from './test-system';
export * from './lockout-test-env';
export * from './redis-acl';
