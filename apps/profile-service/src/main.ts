import { runApp } from '@nest-hardening/http-app';
import { loadProfileServiceConfig } from './config/profile-service.config';
import { createProfileServiceApp } from './profile-service.app';

runApp('profile-service', async () => {
  const config = loadProfileServiceConfig(process.env);
  const app = await createProfileServiceApp(config);
  await app.listen(config.PORT, config.HOST);
});
