export * from './configure-http-app';
export * from './run-app';
export * from './service-modules';
export * from './express-http-adapter';
export * from './dev-secrets-warning';
export * from './server-timeouts';
export * from './drain-on-close';
export * from './create-service-app';
