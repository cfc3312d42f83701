/**
 * The file `kopi-docka config init` writes: every key at its default, with what it does.
 * A unit test parses this text and checks it equals the schema's defaults, so the two cannot drift.
 */
export const CONFIG_TEMPLATE = `# kopi-docka configuration (TOML). Every key is optional: a missing key takes the value shown here.
# Check a change with \`kopi-docka config validate\`; see the effective values with \`kopi-docka config show\`.

[repository]
# Where kopia keeps the backups: filesystem, sftp, tailscale, s3, b2, azure, gcs, rclone, webdav or server
# (examples for each below). "filesystem": a local or mounted directory. A filesystem repository is
# created on this host's first backup; any other, or once this host has used one, only by
# \`kopi-docka repo init\`: a missing repository (an unmounted disk, a wrong bucket) is an error, exit 10.
backend = "filesystem"
path = "/var/lib/kopi-docka/repository"
# The repository password is read from this file (mode 0600). It is generated when the repository is
# created. Keep a copy somewhere else: without it the backups cannot be read.
password_file = "/var/lib/kopi-docka/repository.password"
# Host name recorded on every snapshot. Empty: this machine's name (lower-case, up to the first dot).
# Set it to keep one history across a host rename, or to restore another host's backups.
hostname = ""
# Compression of new data (kopia's global policy): none, zstd, zstd-fastest, s2-default, pgzip, ...
compression = "zstd"
# Kopia's local cache budget in MiB (0: kopia's default).
cache_size_mb = 500
# Bytes per second kopia may upload to / download from the repository storage (0: no limit).
max_upload_speed = 0
max_download_speed = 0
# Every secret below comes from <name>_file (a file of mode 0600 holding only the secret) or from
# <name>_env (the name of an environment variable holding it); kopi-docka passes it to kopia in its
# environment, never on a command line.
#
# backend = "sftp"
# host = "backup.example.org"
# port = 22
# user = "kopia"
# path = "/srv/kopia/this-host"         # directory on the server
# key_file = "/etc/kopi-docka/id_ed25519"   # private key, mode 0600, or instead a password:
# sftp_password_file = ""               # mode 0600, no space in the path; runs sshpass and ssh (a file
#                                       # only: kopia would want a password on its command line)
# known_hosts_file = "/etc/kopi-docka/known_hosts"   # the server's pinned host key (required)
#
# backend = "tailscale"                 # SFTP on a tailnet peer, checked online before anything stops
# peer = "nas.tailnet-x.ts.net"         # its MagicDNS name (or just "nas"); \`tailscale status\` lists them
# port = 22
# user = "kopia"
# path = "/srv/kopia/this-host"
# key_file = "/etc/kopi-docka/id_ed25519"
# known_hosts_file = "/etc/kopi-docka/known_hosts"   # pins the host key under the peer's Tailscale IP
#                                       # (100.x.y.z): ssh-keyscan 100.x.y.z > known_hosts
#
# backend = "s3"                        # AWS or any S3-compatible store
# bucket = "backups"
# prefix = "this-host/"                 # end with "/" to use it as a folder
# endpoint = "s3.amazonaws.com"         # host[:port]
# region = ""
# tls = true                            # false: plain HTTP (trusted local networks only)
# ca_file = "/etc/kopi-docka/store-ca.pem"   # CA of a self-hosted store's certificate
# access_key_id_file = "/etc/kopi-docka/s3.key-id"          # or access_key_id_env = "AWS_ACCESS_KEY_ID"
# secret_access_key_file = "/etc/kopi-docka/s3.secret"      # or secret_access_key_env
# session_token_file = ""               # optional (or session_token_env)
#
# backend = "b2"                        # Backblaze B2
# bucket = "backups"
# prefix = ""
# key_id_file = "/etc/kopi-docka/b2.key-id"                 # or key_id_env
# application_key_file = "/etc/kopi-docka/b2.key"           # or application_key_env
#
# backend = "azure"                     # Azure Blob Storage
# container = "backups"
# storage_account = "myaccount"
# prefix = ""
# storage_domain = ""                   # "": blob.core.windows.net
# storage_key_file = "/etc/kopi-docka/azure.key"   # the account key, or:
# sas_token_file = ""                   # a SAS token, or a service principal:
# tenant_id = ""
# client_id = ""
# client_secret_file = ""               # (each also as <name>_env)
#
# backend = "gcs"                       # Google Cloud Storage
# bucket = "backups"
# prefix = ""
# credentials_file = "/etc/kopi-docka/gcs.json"   # service account key, mode 0600
#
# backend = "rclone"                    # any rclone remote
# remote_path = "myremote:backups/this-host"
# rclone_exe = ""                       # "": rclone on PATH
# config_file = "/etc/kopi-docka/rclone.conf"   # rclone's config holding the remote
#
# backend = "webdav"
# url = "https://dav.example.org/kopia"
# username = ""
# webdav_password_file = ""             # or webdav_password_env
#
# backend = "server"                    # a kopia repository server shared by many hosts
# url = "https://kopia.example.org:51515"
# server_cert_fingerprint = "…64 hex digits…"   # SHA-256 of the server's certificate
# # password_file holds this host's server user password (user kopi-docka@<hostname>)

# A second copy of the repository (3-2-1), copied after each successful backup with kopia's
# \`repository sync-to\` (outside the cold window; a failed copy makes the run exit 3, never fails it).
# Any backend but "server" or "tailscale", with the same keys as above; \`kopi-docka repo sync\` copies by hand and
# \`restore --repository replica:NAME\` reads it when the primary is gone. Repeat the table for more.
# [[replicas]]
# name = "offsite"
# backend = "sftp"
# host = "backup.example.org"
# user = "kopia"
# path = "/srv/kopia/this-host"
# key_file = "/etc/kopi-docka/id_ed25519"
# known_hosts_file = "/etc/kopi-docka/known_hosts"

[kopia]
# Which kopia runs: "auto" (a kopia >= 0.21 on PATH, else the one inside the full kopi-docka binary),
# "path" (PATH only), "embedded" (the one inside, extracted to <state_dir>/bin), or an absolute path.
binary = "auto"

[retention]
# How many restore points of each unit to keep: the latest N, and the newest of each of the last N
# hours, days, ISO weeks, months, years (UTC). Applied to whole points at the end of every backup
# (kopia's own retention is switched off on kopi-docka@HOST: it would split points); failed runs
# never push a complete point out; pinned points take no slot. All zero keeps everything.
latest = 10
hourly = 0
daily = 7
weekly = 4
monthly = 12
annual = 3

[backup]
# minimal: volumes and bind mounts; standard: + recipes (compose files, inspect) and networks;
# full: + the Docker daemon's configuration.
scope = "standard"
# Seconds \`docker stop\` waits before it kills a container (1-3600), unless the container's
# kopi-docka.stop-timeout label or its own --stop-timeout says otherwise.
stop_timeout = 30
# Seconds to wait for a restarted container to run again (and be healthy, if it has a health check).
start_timeout = 60
# Longest a unit may stay stopped: past it its snapshot is cancelled, its containers start, it is
# reported failed and the run goes on. Also gives the systemd service a finite start timeout.
# max_cold_seconds = 900
# Kopia ignore patterns (gitignore syntax) applied to volume and bind-mount snapshots.
exclude_patterns = []
# Bind-mount sources at or under these host paths are never backed up (the host root "/" never is).
host_internal_paths = ["/proc", "/sys", "/dev", "/run", "/var/run", "/boot", "/lib", "/lib64", "/usr", "/bin", "/sbin", "/etc", "/var/lib/docker", "/var/log"]
# Bind-mounted files with these base names are never backed up.
host_internal_basenames = ["docker.sock"]
# Images (repository, no tag) whose kopi-docka.* labels count like your own. Another image's
# exclude / exclude-volumes / stop=false / mode labels are ignored until [units.<name>] confirms them.
trust_image_labels = []
# Full kopia maintenance once every container runs again, when this host owns maintenance and kopia's
# schedule says it is due (weekly on a repository kopi-docka created): it frees the space of expired
# restore points. First it checks every snapshot still reads, as \`repo maintenance --full\` does, and
# when that fails it runs nothing and the run warns. false: only \`kopi-docka repo maintenance --full\`.
full_maintenance = true

[backup.hooks]
# Executables run once per unit (absolute paths; "" = none). They get KOPI_DOCKA_HOOK_TYPE (pre_backup,
# post_backup, pre_restore, post_restore), KOPI_DOCKA_UNIT_NAME and KOPI_DOCKA_RUN_ID in their
# environment, backup hooks KOPI_DOCKA_BACKUP_ID, restore hooks KOPI_DOCKA_RESTORE_POINT.
# A failing pre_backup hook skips the unit without stopping it. post_restore is not run when a restore
# brings back fewer files than the snapshot holds (the warning says how to run it by hand).
pre_backup = ""
post_backup = ""
pre_restore = ""
post_restore = ""
# Seconds a hook may run before it is killed and counted as failed.
timeout = 300

[paths]
# Run records, the restart journal and kopia's own config (never your ~/.config/kopia).
state_dir = "/var/lib/kopi-docka"
# Kopia's cache and the staging area for recipes.
cache_dir = "/var/cache/kopi-docka"
# The host-wide lock that keeps two backups apart.
lock_file = "/run/kopi-docka/kopi-docka.lock"
# Where restore writes a unit's compose and project files by default (<restore_dir>/<unit>).
restore_dir = "/opt/stacks"

[docker]
# Which compose starts restored stacks (\`restore --start\`): "auto" (the v2 plugin \`docker compose\` when it
# answers, else v1 \`docker-compose\`), "v2" or "v1" (only that one).
compose = "auto"

[schedule]
# Read by \`kopi-docka systemd install\` (a flag given there wins). Unset: the installed timer's value,
# else the default shown. on_calendar is a systemd calendar expression (\`man systemd.time\`);
# randomized_delay_sec delays each start by up to that many seconds, at random.
# on_calendar = "*-*-* 02:00:00"
# randomized_delay_sec = 0

[alerts]
# Notification targets, several at once, each with its level: "failure" (failed runs, containers not
# running again, missed backups, a repository that cannot be reached), "warning" (+ runs with
# warnings), "always" (every run). \${VAR} in a URL is read from the environment, \${file:/path} from a
# 0600 file; url_file reads the whole URL from a 0600 file. Schemes: ntfy(s)://host/topic,
# gotify(s)://host/TOKEN, discord://ID/TOKEN, slack://T/B/X, tgram://BOT_TOKEN/CHAT_ID,
# json(s)://host/path (POST of the run summary as JSON), mailto(s)://user:pass@smtp.host[:port]?to=addr.
# [[alerts.notify]]
# url = "ntfys://ntfy.sh/\${NTFY_TOPIC}"
# level = "failure"
# [[alerts.notify]]
# url_file = "/etc/kopi-docka/mail.url"
# level = "always"
notify = []
# Heartbeat: Healthchecks.io (/start, base URL, /<exit code>), "fail" (/start, base, /fail) or
# "uptime-kuma" (push URL, ?status=up|down). "" for none.
ping_url = ""
ping_style = "healthchecks"
# A unit whose last good backup is older than this many hours is reported missed, once per episode
# (per unit: [units.NAME] max_age_hours; 0 never). \`kopi-docka check-freshness\` checks it on its own.
max_age_hours = 26
# Seconds each target may take; all are sent to in parallel, after every container runs again.
timeout = 10
# Extra CA certificates (PEM) trusted for https and SMTP TLS targets (a self-signed server). "" for none.
ca_file = ""

[metrics]
# Prometheus textfile for node_exporter's textfile collector, rewritten atomically after every run,
# e.g. "/var/lib/node_exporter/textfile/kopi_docka.prom". "" for none.
textfile = ""

[dr]
# Disaster-recovery bundle (\`kopi-docka dr export\`) refreshed after each successful backup when the
# config or the repository changed: a directory, e.g. "/root/kopi-docka-dr" (better: a mount that is
# not this disk). "" for never.
export_after_backup = ""
# Bundles kept there; older ones are removed.
keep = 3
# File holding the bundles' passphrase (0600, keep a copy elsewhere): needed with export_after_backup.
passphrase_file = ""

# Per-unit settings; the table name is the unit (compose project or container name).
# [units.nextcloud]
# exclude = false            # true: never back up this unit
# exclude_volumes = []       # volume names of this unit to leave out
# mode = "cold"              # "warm-then-cold": a warm pass first, shorter downtime; "live": never stopped;
#                            # "dump": never stopped, the database is dumped from inside its container;
#                            # "fs-snapshot": stopped only for a btrfs snapshot, backed up from it after the start
# dump = "postgres"          # mode "dump": a preset (postgres, mysql, mariadb, mongo, sqlite)
# dump_path = "/data/app.db" # the sqlite preset's database file inside the container
# dump_command = ["pg_dump", "-U", "app", "app"]   # or a command of your own (argv, run in the container)
# restore_command = ["psql", "-U", "app", "app"]   # reads that dump back on stdin (needed with dump_command)
# dump_container = "db"      # which container (name or compose service); default: the one labelled
#                            # kopi-docka.dump / kopi-docka.mode=dump, or the unit's only container
# stop = true                # false: back up without stopping (only for data safe to read live)
# stop_timeout = 120         # overrides backup.stop_timeout, kopi-docka.stop-timeout labels and the
#                            # containers' own --stop-timeout for this unit (1-3600)
# max_cold_seconds = 300     # overrides backup.max_cold_seconds for this unit
# pre_backup = ""            # overrides backup.hooks.pre_backup for this unit
# post_backup = ""
# max_age_hours = 48         # overrides alerts.max_age_hours for this unit (0: never reported missed)
`;
