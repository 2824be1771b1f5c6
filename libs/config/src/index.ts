export * from './config-fields';
export * from './config-validation.error';
export * from './parse-config';
