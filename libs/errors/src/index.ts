export * from './dependency-unavailable.error';
export * from './domain-error';
export * from './domain-error.filter';
export * from './redact-url';
export * from './shown-option-value';
