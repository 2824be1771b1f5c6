import { runApp } from '@nest-hardening/http-app';

import { createApiGatewayApp } from './api-gateway.app';
import { loadApiGatewayConfig } from './config/api-gateway.config';

runApp('api-gateway', async () => {
  const config = loadApiGatewayConfig(process.env);
  const app = await createApiGatewayApp(config);
  await app.listen(config.PORT, config.HOST);
});
