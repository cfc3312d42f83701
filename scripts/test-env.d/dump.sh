# mode dump: locally built database images (no registry) on the busybox test base: Debian's sqlite3
# and PostgreSQL 15 in one, MariaDB 10.11 in another. PostgreSQL's packages are unpacked (dpkg -x), never installed, so no
# server runs on the host; their libraries come from Debian's library packages. The image starts
# PostgreSQL as user postgres (initdb on an empty data dir) when run with `pg-start`.
DB_IMAGE_PG=15
DB_IMAGE=kopi-docka-test/db:pg$DB_IMAGE_PG-1
if ! docker image inspect "$DB_IMAGE" >/dev/null 2>&1; then
  apt_install sqlite3 libicu72 libxml2 libssl3 libldap-2.5-0 libgssapi-krb5-2 libpam0g libsystemd0 \
    liblz4-1 libzstd1 libpq5 libreadline8 libuuid1 tzdata
  pgroot=/usr/lib/postgresql/$DB_IMAGE_PG
  pgshare=/usr/share/postgresql/$DB_IMAGE_PG
  if [ ! -x "$pgroot/bin/postgres" ]; then
    debs="$TOOLS_CACHE/dump-debs/pg$DB_IMAGE_PG"
    if [ ! -x "$debs/root$pgroot/bin/postgres" ]; then
      log "unpacking postgresql-$DB_IMAGE_PG (not installed: no server on this host)"
      mkdir -p "$debs" && rm -rf "$debs/root"
      if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
      (cd "$debs" && rm -f ./*.deb && apt-get download "postgresql-$DB_IMAGE_PG" "postgresql-client-$DB_IMAGE_PG" >/dev/null) ||
        die "apt-get download postgresql-$DB_IMAGE_PG failed"
      for d in "$debs"/*.deb; do dpkg -x "$d" "$debs/root"; done
    fi
    pgroot="$debs/root$pgroot"
    pgshare="$debs/root$pgshare"
  fi
  log "building $DB_IMAGE"
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/usr/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/data" \
    "$rootfs/usr/lib/postgresql/$DB_IMAGE_PG" "$rootfs/usr/share/postgresql" "$rootfs/usr/share/zoneinfo" \
    "$rootfs/var/run/postgresql" "$rootfs/var/lib/postgresql/data"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  cp /usr/bin/sqlite3 "$rootfs/usr/bin/sqlite3"
  cp -a "$pgroot/bin" "$pgroot/lib" "$rootfs/usr/lib/postgresql/$DB_IMAGE_PG/"
  rm -rf "$rootfs/usr/lib/postgresql/$DB_IMAGE_PG/lib/bitcode" "$rootfs/usr/lib/postgresql/$DB_IMAGE_PG/lib/llvmjit"*
  cp -a "$pgshare" "$rootfs/usr/share/postgresql/"
  cp -a /usr/share/zoneinfo/UTC /usr/share/zoneinfo/Etc "$rootfs/usr/share/zoneinfo/" 2>/dev/null || true
  # Every shared library the binaries and PostgreSQL's modules need, at the host's paths.
  for f in "$rootfs/usr/bin/sqlite3" "$rootfs/usr/lib/postgresql/$DB_IMAGE_PG/bin/"* \
    "$rootfs/usr/lib/postgresql/$DB_IMAGE_PG/lib/"*.so; do
    { LD_LIBRARY_PATH="$pgroot/lib" ldd "$f" 2>/dev/null || true; } | awk '/=> \//{print $3} /^\t\/lib/{print $1}'
  done | sort -u | while read -r lib; do
    [ -e "$rootfs$lib" ] || { mkdir -p "$rootfs$(dirname "$lib")" && cp -L "$lib" "$rootfs$lib"; }
  done
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\npostgres:x:999:\n' >"$rootfs/etc/group"
  cat >"$rootfs/bin/pg-start" <<'SH'
#!/bin/sh
# An empty data dir is initialised (trust over the local socket only), then the server runs.
set -e
[ -s "$PGDATA/PG_VERSION" ] || initdb -D "$PGDATA" -U postgres --auth=trust --locale=C -E UTF8 >/dev/null
exec postgres -D "$PGDATA" -c listen_addresses=''
SH
  chmod 755 "$rootfs/bin/pg-start"
  chown -R 999:999 "$rootfs/var/run/postgresql" "$rootfs/var/lib/postgresql"
  tar -C "$rootfs" -c . | docker import \
    -c "ENV PATH=/usr/lib/postgresql/$DB_IMAGE_PG/bin:/usr/bin:/bin" \
    -c 'ENV PGDATA=/var/lib/postgresql/data' -c 'ENV TZ=UTC' \
    -c 'CMD ["/bin/sh"]' - "$DB_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

# MariaDB 10.11 from Debian's packages, unpacked (dpkg -x), never installed: no server on the host.
# `maria-start` (run as user mysql) initialises an empty data dir, then runs mariadbd on its socket
# only; the mysql user reaches it by socket authentication, as the official image's root does.
MARIA_IMAGE=kopi-docka-test/mariadb:10.11-1
if ! docker image inspect "$MARIA_IMAGE" >/dev/null 2>&1; then
  apt_install libaio1 liburing2 libnuma1 libpcre2-8-0 libssl3 libsystemd0 libncurses6 libcrypt1 zlib1g
  mdebs="$TOOLS_CACHE/dump-debs/mariadb-10.11"
  if [ ! -x "$mdebs/root/usr/sbin/mariadbd" ]; then
    log "unpacking mariadb 10.11 (not installed: no server on this host)"
    mkdir -p "$mdebs" && rm -rf "$mdebs/root"
    if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
    (cd "$mdebs" && rm -f ./*.deb && apt-get download mariadb-server-core mariadb-server mariadb-client-core mariadb-client >/dev/null 2>&1) ||
      die "apt-get download mariadb-server failed"
    for d in "$mdebs"/*.deb; do dpkg -x "$d" "$mdebs/root"; done
  fi
  mroot="$mdebs/root"
  log "building $MARIA_IMAGE"
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/usr/share" "$rootfs/etc/mysql" \
    "$rootfs/tmp" "$rootfs/run/mysqld" "$rootfs/var/lib/mysql"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  cp "$mroot/usr/sbin/mariadbd" "$rootfs/usr/sbin/"
  for b in mariadb mariadb-dump mariadb-admin mariadb-install-db my_print_defaults resolveip; do
    cp "$mroot/usr/bin/$b" "$rootfs/usr/bin/"
  done
  ln -s mariadb "$rootfs/usr/bin/mysql"
  ln -s mariadb-dump "$rootfs/usr/bin/mysqldump"
  ln -s mariadb-admin "$rootfs/usr/bin/mysqladmin"
  cp -a "$mroot/usr/share/mysql" "$rootfs/usr/share/"
  for f in "$rootfs/usr/sbin/mariadbd" "$rootfs/usr/bin/"*; do
    { ldd "$f" 2>/dev/null || true; } | awk '/=> \//{print $3} /^\t\/lib/{print $1}'
  done | sort -u | while read -r lib; do
    [ -e "$rootfs$lib" ] || { mkdir -p "$rootfs$(dirname "$lib")" && cp -L "$lib" "$rootfs$lib"; }
  done
  printf '[mysqld]\ndatadir=/var/lib/mysql\nsocket=/run/mysqld/mysqld.sock\nskip-networking\n[client]\nsocket=/run/mysqld/mysqld.sock\n' \
    >"$rootfs/etc/mysql/my.cnf"
  printf 'root:x:0:0:root:/root:/bin/sh\nmysql:x:998:998:mysql:/var/lib/mysql:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nmysql:x:998:\n' >"$rootfs/etc/group"
  cat >"$rootfs/bin/maria-start" <<'SH'
#!/bin/sh
set -e
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
exec mariadbd --user=mysql
SH
  chmod 755 "$rootfs/bin/maria-start"
  chown -R 998:998 "$rootfs/run/mysqld" "$rootfs/var/lib/mysql"
  tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/usr/sbin:/usr/bin:/bin' -c 'CMD ["/bin/sh"]' - "$MARIA_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi
