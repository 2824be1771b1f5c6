export * from './client-ip';
export * from './trusted-proxies';
