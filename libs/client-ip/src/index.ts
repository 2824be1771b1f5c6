export * from './client-ip';
export * from './trusted-proxies';
export * from './gateway-signature';
export * from './gateway-trust';
