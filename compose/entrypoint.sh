#!/bin/sh
# Start one HDFS daemon: `namenode` (formats /data/name on first start) or `datanode`.
# A DataNode names itself by its container address, so that the NameNode hands clients (and
# WebHDFS redirects) an address the host can reach on Linux, under Docker and podman alike.
set -eu
role="${1:-namenode}"
java_opts="-Xmx${HEAP:-384m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true"
for pkg in java.io java.lang java.lang.reflect java.math java.net java.nio java.text java.util \
           java.util.concurrent java.util.zip sun.nio.ch sun.security.util sun.security.x509; do
  java_opts="$java_opts --add-opens=java.base/$pkg=ALL-UNNAMED"
done
cp="/opt/hadoop/conf:/opt/hadoop/jars/*"
case "$role" in
  namenode)
    main=org.apache.hadoop.hdfs.server.namenode.NameNode
    if [ ! -d /data/name/current ]; then
      # shellcheck disable=SC2086
      java $java_opts -cp "$cp" "$main" -format -force -nonInteractive
    fi
    set --
    ;;
  datanode)
    main=org.apache.hadoop.hdfs.server.datanode.DataNode
    address="$(getent hosts "$(cat /etc/hostname)" | awk '{ print $1; exit }')"
    set -- -D "dfs.datanode.hostname=${address}"
    ;;
  *)
    echo "usage: entrypoint.sh namenode|datanode (got: $role)" >&2
    exit 2
    ;;
esac
# shellcheck disable=SC2086
exec java $java_opts -cp "$cp" "$main" "$@"
