import { runApp } from '@lib/http-app';
import { createAuthServiceApp } from './auth-service.app';
import { loadAuthServiceConfig } from './config/auth-service.config';

runApp('auth-service', async () => {
  const config = loadAuthServiceConfig(process.env);
  const app = await createAuthServiceApp(config);
  await app.listen(config.PORT, config.HOST);
});
