export * from './config-fields';
export * from './config-validation.error';
export * from './parse-config';
export * from './common-env.schema';
export * from './dev-secret';
export * from './missing-secrets.error';
export * from './resolve-secrets';
export * from './env-doc';
