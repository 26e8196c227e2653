/**
 * `trident stack up --secure`: the local broker's SASL_SSL listener. On first use it makes, in
 * `<data>/secure/` (mode 0700, files 0600): a CA and a broker certificate for 127.0.0.1/localhost
 * (openssl), the broker's PKCS12 keystore and truststore (openssl, keytool), and random passwords
 * for two SCRAM-SHA-512 users — `admin` (the broker itself) and `trident` (clients) — which
 * `kafka-storage format --add-scram` writes into the cluster's metadata before the first start.
 * The controller listener takes TLS with a client certificate signed by that CA only.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError, type StackPaths } from './stack';

export const CLIENT_USER = 'trident';
export const BROKER_USER = 'admin';

export interface SecureFiles {
  dir: string;
  caCert: string;
  caKey: string;
  keystore: string;
  truststore: string;
  storePassword: string;
  brokerPassword: string;
  clientPassword: string;
  /** Written once the cluster was formatted with the SCRAM users: the data dir is a secure stack for good. */
  marker: string;
}

export function secureFiles(paths: StackPaths): SecureFiles {
  const dir = join(paths.data, 'secure');
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    keystore: join(dir, 'broker.p12'),
    truststore: join(dir, 'truststore.p12'),
    storePassword: join(dir, 'store.password'),
    brokerPassword: join(dir, `${BROKER_USER}.password`),
    clientPassword: join(dir, `${CLIENT_USER}.password`),
    marker: join(dir, 'formatted-with-scram'),
  };
}

export function isSecureStack(paths: StackPaths): boolean {
  return existsSync(secureFiles(paths).marker);
}

function run(tool: string, args: string[], cwd: string): void {
  const result = spawnSync(tool, args, { cwd, encoding: 'utf8' });
  if (result.error)
    throw new StackError(
      'TOOL_MISSING',
      `\`${tool}\` was not found on PATH: it makes the secure stack's certificates (apt-get install ${tool === 'openssl' ? 'openssl' : 'openjdk-17-jre-headless'})`,
    );
  if (result.status !== 0)
    throw new StackError(
      'SECURE_SETUP_FAILED',
      `${tool} ${args[0]} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ')}`,
    );
}

function secret(file: string): string {
  if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** Makes whatever of the CA, certificates, stores and passwords is missing. Blocks (runs openssl, keytool). */
export function ensureSecureFiles(paths: StackPaths, say: (line: string) => void = () => undefined): SecureFiles {
  const f = secureFiles(paths);
  mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  chmodSync(f.dir, 0o700);
  secret(f.brokerPassword);
  secret(f.clientPassword);
  secret(f.storePassword);
  if (existsSync(f.keystore) && existsSync(f.truststore)) return f;
  say(`making a CA and a broker certificate in ${f.dir}…`);
  const d = f.dir;
  run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '3650',
      '-subj',
      '/CN=Trident local stack CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    d,
  );
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost'], d);
  writeFileSync(
    join(d, 'broker.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n',
  );
  run(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      'broker.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'broker.pem',
      '-days',
      '825',
      '-extfile',
      'broker.ext',
    ],
    d,
  );
  run(
    'openssl',
    [
      'pkcs12',
      '-export',
      '-in',
      'broker.pem',
      '-inkey',
      'broker.key',
      '-certfile',
      'ca.pem',
      '-name',
      'broker',
      '-out',
      'broker.p12',
      '-passout',
      `file:${f.storePassword}`,
    ],
    d,
  );
  rmSync(f.truststore, { force: true });
  run(
    'keytool',
    [
      '-importcert',
      '-noprompt',
      '-alias',
      'trident-ca',
      '-file',
      'ca.pem',
      '-keystore',
      'truststore.p12',
      '-storetype',
      'PKCS12',
      `-storepass:file`,
      f.storePassword,
    ],
    d,
  );
  for (const name of [
    'ca.key',
    'ca.pem',
    'broker.key',
    'broker.pem',
    'broker.csr',
    'broker.p12',
    'truststore.p12',
    'ca.srl',
    'broker.ext',
  ]) {
    if (existsSync(join(d, name))) chmodSync(join(d, name), 0o600);
  }
  return f;
}

/** server.properties lines of the secure broker (the rest is shared with the plain one). */
export function secureListenerProperties(f: SecureFiles, kafkaPort: number, controllerPort: number): string[] {
  const store = secret(f.storePassword);
  // JAAS values are quoted; the generated passwords are base64url, nothing to escape.
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${BROKER_USER}" password="${secret(f.brokerPassword)}";`;
  return [
    `listeners=SASL_SSL://127.0.0.1:${kafkaPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${kafkaPort}`,
    'inter.broker.listener.name=SASL_SSL',
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${jaas}`,
    // The controller listener admits only holders of a certificate from the stack's CA (the broker).
    'listener.name.controller.ssl.client.auth=required',
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${f.keystore}`,
    `ssl.keystore.password=${store}`,
    'ssl.truststore.type=PKCS12',
    `ssl.truststore.location=${f.truststore}`,
    `ssl.truststore.password=${store}`,
    `super.users=User:${BROKER_USER}`,
  ];
}

/** `kafka-storage format` arguments that create the SCRAM users. */
export function scramFormatArgs(f: SecureFiles): string[] {
  return [
    '--add-scram',
    `SCRAM-SHA-512=[name=${BROKER_USER},password=${secret(f.brokerPassword)}]`,
    '--add-scram',
    `SCRAM-SHA-512=[name=${CLIENT_USER},password=${secret(f.clientPassword)}]`,
  ];
}

/** The client settings (config `kafka.sasl` / `kafka.ssl`) of the secure stack's `trident` user. */
export function secureClientSettings(paths: StackPaths): {
  sasl: { mechanism: 'scram-sha-512'; username: string; passwordFile: string };
  ssl: { enabled: true; caFile: string; rejectUnauthorized: true };
} {
  const f = secureFiles(paths);
  return {
    sasl: { mechanism: 'scram-sha-512', username: CLIENT_USER, passwordFile: f.clientPassword },
    ssl: { enabled: true, caFile: f.caCert, rejectUnauthorized: true },
  };
}

/** The same, as the environment variables a client sets (names only files, never a password). */
export function secureClientEnv(paths: StackPaths): Record<string, string> {
  const s = secureClientSettings(paths);
  return {
    TRIDENT_KAFKA_SASL_MECHANISM: s.sasl.mechanism,
    TRIDENT_KAFKA_SASL_USERNAME: s.sasl.username,
    TRIDENT_KAFKA_SASL_PASSWORD_FILE: s.sasl.passwordFile,
    TRIDENT_KAFKA_SSL_ENABLED: 'true',
    TRIDENT_KAFKA_SSL_CA_FILE: s.ssl.caFile,
  };
}
