export * from './api-errors.decorator';
export * from './error.dto';
export * from './error-schema';
export * from './rate-limit-headers';
export * from './service-docs';
export * from './text-length.decorator';
