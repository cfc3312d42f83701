import { describe, expect, test } from "bun:test";
import {
  REDACTED,
  redactArgv,
  redactDeep,
  redactEnvEntry,
  redactInspect,
} from "../../../../src/core/snapshot/redact.ts";
import { isSecretKey } from "../../../../src/core/snapshot/secret-key.ts";

const R = REDACTED;

describe("env entries: secret by name or by value", () => {
  test.each([
    ["DATABASE_URL=postgres://u:s3cret@h/db", `DATABASE_URL=postgres://u:${R}@h/db`],
    ["REDIS_URL=redis://:s3cret@cache:6379/0", `REDIS_URL=redis://:${R}@cache:6379/0`],
    [
      "MONGO_URI=mongodb://root:s3cret@m1,m2/app?authSource=admin",
      `MONGO_URI=mongodb://root:${R}@m1,m2/app?authSource=admin`,
    ],
    // An unencoded password holding / ? # @ (base64): before, left as it was, or its tail was.
    ["DATABASE_URL=postgres://app:Zx9/Qw+e@db/app", `DATABASE_URL=postgres://app:${R}@db/app`],
    ["MYSQL_URL=mysql://app:a#b@db", `MYSQL_URL=mysql://app:${R}@db`],
    ["MONGO_URL=mongodb://root:pa?ss@m1:27017,m2/db", `MONGO_URL=mongodb://root:${R}@m1:27017,m2/db`],
    ["CACHE=redis://default:p@w@cache", `CACHE=redis://default:${R}@cache`],
    ["TS_AUTHKEY=tskey-auth-abc", `TS_AUTHKEY=${R}`],
    ["LDAP_BINDPW=s3cret", `LDAP_BINDPW=${R}`],
    ["HOMEPAGE=https://example.org/docs/@team", "HOMEPAGE=https://example.org/docs/@team"],
    ["SENTRY_DSN=https://abc123@o1.ingest.sentry.io/42", `SENTRY_DSN=${R}`],
    ["HTTPS_PROXY=http://bob:s3cret@proxy:3128", `HTTPS_PROXY=http://bob:${R}@proxy:3128`],
    ["http_proxy=http://tok3n@proxy:3128", `http_proxy=http://${R}@proxy:3128`],
    ["MYSQL_PWD=s3cret", `MYSQL_PWD=${R}`],
    ["DB_PWD=s3cret", `DB_PWD=${R}`],
    ["SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B0/s3cret", `SLACK_WEBHOOK_URL=${R}`],
    [
      "AZURE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acc;AccountKey=s3cret==;EndpointSuffix=core.windows.net",
      `AZURE_CONNECTION_STRING=${R}`,
    ],
    [
      "STORAGE=DefaultEndpointsProtocol=https;AccountName=acc;AccountKey=s3cret==;EndpointSuffix=x",
      `STORAGE=DefaultEndpointsProtocol=https;AccountName=acc;AccountKey=${R};EndpointSuffix=x`,
    ],
    ["WALLET_MNEMONIC=abandon ability able", `WALLET_MNEMONIC=${R}`],
    ["PASSWORD_SALT=s3cret", `PASSWORD_SALT=${R}`],
    ["HASH_SALT=s3cret", `HASH_SALT=${R}`],
    ["DB_PASSWORD=s3cret", `DB_PASSWORD=${R}`],
    ["dbPassword=s3cret", `dbPassword=${R}`],
    ["APIKey=s3cret", `APIKey=${R}`],
    ["AWS_SECRET_ACCESS_KEY=s3cret", `AWS_SECRET_ACCESS_KEY=${R}`],
    ["GITHUB_TOKEN=s3cret", `GITHUB_TOKEN=${R}`],
    ["ROOTPASSWORD=s3cret", `ROOTPASSWORD=${R}`],
    [
      "JAVA_OPTS=-Xmx1g -Djavax.net.ssl.keyStorePassword=s3cret",
      `JAVA_OPTS=-Xmx1g -Djavax.net.ssl.keyStorePassword=${R}`,
    ],
  ])("%s is redacted", (entry, expected) => {
    expect(redactEnvEntry(entry)).toBe(expected);
    expect(redactEnvEntry(entry)).not.toContain("s3cret");
  });

  test.each([
    "API_BASE_URL=https://api.example.com/v1",
    "KEYBOARD_LAYOUT=de",
    "AUTHOR=Jane Doe",
    "BYPASS_CACHE=yes-please",
    "DATABASE_URL=postgres://db:5432/app",
    "PWD=/app",
    "DB_PASSWORD_FILE=/run/secrets/db_password",
    "AUTH_ENABLED=true",
    "DB_PASSWORD=",
    "TZ=Europe/Berlin",
    "PATH=/usr/local/bin:/usr/bin",
    "PUBLIC_URL=https://example.com/a?b=c",
  ])("%s is kept as it is", (entry) => {
    expect(redactEnvEntry(entry)).toBe(entry);
  });

  test("list --json mode: every value goes, the key stays", () => {
    expect(redactEnvEntry("TZ=UTC", true)).toBe(`TZ=${R}`);
  });
});

describe("names: word boundaries, both ways", () => {
  test.each([
    "DB_PASSWORD",
    "db-password",
    "auth.basic.password",
    "dbPassword",
    "MYSQL_PWD",
    "API_KEY",
    "apiKey",
    "SECRET",
    "X_AUTH_TOKEN",
    "SENTRY_DSN",
    "DISCORD_WEBHOOK_URL",
    "SERVICEBUS_CONNECTION_STRING",
    "SEED_MNEMONIC",
    "SESSION_SALT",
    "--requirepass",
    "--password",
    "traefik.http.middlewares.auth.basicauth.users",
    "splunk-token",
  ])("%s names a secret", (name) => expect(isSecretKey(name)).toBe(true));

  test.each([
    "API_BASE_URL",
    "KEYBOARD_LAYOUT",
    "AUTHOR",
    "BYPASS_CACHE",
    "PWD",
    "MONKEY_COUNT",
    "PASSENGER_APP_ENV",
    "DB_PASSWORD_FILE",
    "org.opencontainers.image.authors",
    "com.docker.compose.config-hash",
    "--port",
    "AUTH_TYPE",
    "authSource",
  ])("%s does not", (name) => expect(isSecretKey(name)).toBe(false));
});

describe("command lines", () => {
  test.each([
    [
      ["redis-server", "--requirepass", "s3cret"],
      ["redis-server", "--requirepass", R],
    ],
    [
      ["app", "--password=s3cret", "--port", "80"],
      ["app", `--password=${R}`, "--port", "80"],
    ],
    [
      ["sh", "-c", "redis-server --requirepass s3cret --port 6379"],
      ["sh", "-c", `redis-server --requirepass ${R} --port 6379`],
    ],
    [
      ["curl", "-f", "http://admin:s3cret@localhost/health"],
      ["curl", "-f", `http://admin:${R}@localhost/health`],
    ],
    [
      ["docker", "run", "-e", "DB_PASSWORD=s3cret", "-e", "DATABASE_URL=postgres://u:s3cret@h/db", "img"],
      ["docker", "run", "-e", `DB_PASSWORD=${R}`, "-e", `DATABASE_URL=postgres://u:${R}@h/db`, "img"],
    ],
    [
      [
        "docker",
        "volume",
        "create",
        "--opt",
        "type=cifs",
        "--opt",
        "o=addr=nas,username=u,password=s3cret",
        "v",
      ],
      [
        "docker",
        "volume",
        "create",
        "--opt",
        "type=cifs",
        "--opt",
        `o=addr=nas,username=u,password=${R}`,
        "v",
      ],
    ],
    [
      ["docker", "run", "--label", "traefik.http.middlewares.a.basicauth.users=admin:$apr1$s3cret", "img"],
      ["docker", "run", "--label", `traefik.http.middlewares.a.basicauth.users=${R}`, "img"],
    ],
  ])("%j", (argv, expected) => {
    expect(redactArgv(argv)).toEqual(expected);
  });

  test.each([
    [["docker", "run", "-d", "--name", "web", "-p", "8080:80", "--env-file", "/tmp/x/web.env", "img"]],
    [["kopia", "snapshot", "create", "--override-source", "kopi-docka@h:/kopi-docka/u/recipe"]],
    [["docker", "login", "--password-stdin", "-u", "me"]],
  ])("%j is kept as it is", (argv) => expect(redactArgv(argv)).toEqual(argv));
});

describe("secrets no name announces: tool flags, headers, JSON members", () => {
  test.each([
    [
      ["CMD", "curl", "-fsS", "-u", "admin:s3cret", "http://localhost/health"],
      ["CMD", "curl", "-fsS", "-u", `admin:${R}`, "http://localhost/health"],
    ],
    [
      ["curl", "--user=admin:s3cret", "-uadmin:s3cret", "http://x"],
      ["curl", `--user=admin:${R}`, `-uadmin:${R}`, "http://x"],
    ],
    [
      ["CMD", "redis-cli", "-a", "s3cret", "ping"],
      ["CMD", "redis-cli", "-a", R, "ping"],
    ],
    [
      ["CMD", "mysqladmin", "ping", "-uroot", "-ps3cret"],
      ["CMD", "mysqladmin", "ping", "-uroot", `-p${R}`],
    ],
    [
      ["/usr/bin/mongosh", "-u", "root", "-p", "s3cret", "--eval", "db.ping()"],
      ["/usr/bin/mongosh", "-u", "root", "-p", R, "--eval", "db.ping()"],
    ],
    [
      ["CMD-SHELL", "curl -fsS -u admin:s3cret http://localhost/ || exit 1"],
      ["CMD-SHELL", `curl -fsS -u admin:${R} http://localhost/ || exit 1`],
    ],
    [
      ["CMD-SHELL", "redis-cli -h 127.0.0.1 -a 's3cret' ping | grep PONG"],
      ["CMD-SHELL", `redis-cli -h 127.0.0.1 -a '${R}' ping | grep PONG`],
    ],
    [
      ["CMD-SHELL", "mysqladmin ping -h localhost -uroot -ps3cret --silent"],
      ["CMD-SHELL", `mysqladmin ping -h localhost -uroot -p${R} --silent`],
    ],
    [
      ["CMD-SHELL", "curl -H 'Authorization: Bearer s3cret' http://localhost/api"],
      ["CMD-SHELL", `curl -H 'Authorization: Bearer ${R}' http://localhost/api`],
    ],
    [
      ["curl", "-H", "X-Api-Key: 9f86d081s3cret", "http://localhost/api"],
      ["curl", "-H", `X-Api-Key: ${R}`, "http://localhost/api"],
    ],
    // GitHub's documented form, a lower-case scheme, no space after the colon.
    [
      ["CMD-SHELL", "curl -H 'Authorization: token ghp_s3cret' -H 'authorization:bearer s3cret' http://x"],
      ["CMD-SHELL", `curl -H 'Authorization: token ${R}' -H 'authorization:bearer ${R}' http://x`],
    ],
    // A flag belongs to the command it follows: docker's -u is a uid, curl's a password.
    [
      ["docker", "exec", "-u", "1000:1000", "app", "curl", "-u", "a:s3cret", "http://x"],
      ["docker", "exec", "-u", "1000:1000", "app", "curl", "-u", `a:${R}`, "http://x"],
    ],
    [
      ["sshpass", "-p", "s3cret", "ssh", "-p", "2222", "host"],
      ["sshpass", "-p", R, "ssh", "-p", "2222", "host"],
    ],
  ])("%j", (argv, expected) => {
    expect(redactArgv(argv)).toEqual(expected);
  });

  test.each([
    // References are where a secret comes from at run time, not the secret.
    [["CMD-SHELL", 'mysqladmin ping -uroot -p"$MYSQL_ROOT_PASSWORD"']],
    [["CMD-SHELL", "mysqladmin ping -uroot -p$MYSQL_ROOT_PASSWORD"]],
    [["CMD-SHELL", "redis-cli -a $REDIS_PASSWORD ping"]],
    [["CMD-SHELL", 'curl -u "$USER:$PASS" http://x']],
    // The same short flags mean other things to other programs.
    [["docker", "run", "-u", "1000:1000", "-p", "8080:80", "img"]],
    [["mysql", "-p", "appdb"]],
    [["app", "--image", "vault-token:1.2", "--listen", "host:8080"]],
    // Prose, not a header: an image's description.
    [["echo", "Password: manager for teams"]],
    // Other programs' -p and -u, a path after a secret-sounding name, a generic JSON "key".
    [["sh", "-c", "mkdir -p /data/mongo && exec mongod"]],
    [["sshpass", "-f", "/run/pw", "ssh", "-p", "2222", "host"]],
    [["CMD-SHELL", "sshpass -f /run/pw ssh -p 2222 host"]],
    [["docker", "run", "-p", "27017:27017", "mongo"]],
    [["CMD-SHELL", "docker exec -u 1000:1000 app true && mongosh --eval 1"]],
    [["app", "--config", "secret: /run/secrets/db_password"]],
    [["app", "--label", "Auth: GitHub login"]],
    [["app", '[{"key":"env"}]']],
  ])("%j is kept as it is", (argv) => expect(redactArgv(argv)).toEqual(argv));

  test("JSON and YAML held in env values", () => {
    expect(redactEnvEntry('SETTINGS={"db": {"user": "app", "password": "s3cret"}, "port": 5432}')).toBe(
      `SETTINGS={"db": {"user": "app", "password": "${R}"}, "port": 5432}`,
    );
    expect(redactEnvEntry("CONFIG={'api_key': 's3cret', 'debug': 'no'}")).toBe(
      `CONFIG={'api_key': '${R}', 'debug': 'no'}`,
    );
    expect(redactEnvEntry("SETTINGS_YAML=api_key: AKIA5s3cretZ9")).toBe(`SETTINGS_YAML=api_key: ${R}`);
    expect(redactEnvEntry("EXTRA_HEADERS=Authorization: Basic czNjcmV0")).toBe(
      `EXTRA_HEADERS=Authorization: Basic ${R}`,
    );
    expect(redactEnvEntry('FLAGS={"token_file": "/run/secrets/t", "enabled": "true"}')).toBe(
      'FLAGS={"token_file": "/run/secrets/t", "enabled": "true"}',
    );
  });
});

describe("docker inspect: every place a secret can sit", () => {
  const inspect = {
    Name: "/web",
    Path: "redis-server",
    Args: ["--requirepass", "s3cret"],
    Config: {
      Env: ["DATABASE_URL=postgres://u:s3cret@h/db", "KEYBOARD_LAYOUT=de"],
      Cmd: ["redis-server", "--requirepass", "s3cret"],
      Entrypoint: ["docker-entrypoint.sh"],
      Healthcheck: { Test: ["CMD-SHELL", "redis-cli --pass s3cret ping"] },
      Labels: {
        "traefik.http.middlewares.a.basicauth.users": "admin:$apr1$s3cret",
        "com.docker.compose.project": "shop",
      },
    },
    HostConfig: {
      LogConfig: {
        Type: "splunk",
        Config: { "splunk-token": "s3cret", "splunk-url": "https://splunk:8088" },
      },
      Mounts: [{ VolumeOptions: { DriverConfig: { Options: { password: "s3cret", type: "cifs" } } } }],
    },
  };

  test("nothing secret is left, and everything else is", () => {
    const out = redactInspect(inspect);
    expect(JSON.stringify(out)).not.toContain("s3cret");
    expect(out).toEqual({
      ...inspect,
      Args: ["--requirepass", R],
      Config: {
        Env: [`DATABASE_URL=postgres://u:${R}@h/db`, "KEYBOARD_LAYOUT=de"],
        Cmd: ["redis-server", "--requirepass", R],
        Entrypoint: ["docker-entrypoint.sh"],
        Healthcheck: { Test: ["CMD-SHELL", `redis-cli --pass ${R} ping`] },
        Labels: {
          "traefik.http.middlewares.a.basicauth.users": R,
          "com.docker.compose.project": "shop",
        },
      },
      HostConfig: {
        LogConfig: { Type: "splunk", Config: { "splunk-token": R, "splunk-url": "https://splunk:8088" } },
        Mounts: [{ VolumeOptions: { DriverConfig: { Options: { password: R, type: "cifs" } } } }],
      },
    });
    expect(inspect.Config.Cmd[2]).toBe("s3cret"); // the input is left alone
  });

  test("volume driver options as unit.json and list --json carry them", () => {
    const volumes = [
      { name: "nas", driver: "local", options: { type: "cifs", o: "addr=nas,username=u,password=s3cret" } },
      { name: "nas2", driver: "local", options: { type: "cifs", password: "s3cret", device: "//nas/share" } },
    ];
    expect(redactDeep(volumes)).toEqual([
      { name: "nas", driver: "local", options: { type: "cifs", o: `addr=nas,username=u,password=${R}` } },
      { name: "nas2", driver: "local", options: { type: "cifs", password: R, device: "//nas/share" } },
    ]);
  });

  test("redacting twice changes nothing more", () => {
    const once = redactInspect(inspect);
    expect(redactInspect(once)).toEqual(once);
  });
});
