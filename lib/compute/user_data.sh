# The health service's install, after the settings above (rendered by lib/compute/artifact.py).
# The artifact is fetched and its SHA-256 checked before anything on the host changes; a mismatch
# stops here. Then Python 3.11 and the CloudWatch agent, an unprivileged user, the release
# unpacked read-only, the agent shipping the service's log file and the memory metric, and systemd.
set -euo pipefail
umask 022
root="${INSTALL_ROOT:-}"  # empty on an instance; a scratch directory in the tests
work="$(mktemp -d)"
# A failed install powers the instance off: Auto Scaling counts an instance that is not running
# as unhealthy and replaces it, rather than keeping one that never serves. (A bad release keeps
# cycling instances until it is fixed; the group's activity shows it.)
on_exit() {
  local status=$?
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then
    echo "tap-health: install failed ($status); powering off so that Auto Scaling replaces this instance" >&2
    shutdown -h now
  fi
}
trap on_exit EXIT

aws s3 cp --only-show-errors --region "$AWS_REGION" "s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY" "$work/artifact.zip"
if ! echo "$ARTIFACT_SHA256  $work/artifact.zip" | sha256sum --check --status; then
  echo "tap-health: artifact $ARTIFACT_KEY does not match its SHA-256; refusing to install it" >&2
  exit 1
fi

dnf install -y --quiet python3.11 amazon-cloudwatch-agent logrotate
id tap-health >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin tap-health

# The service's own TLS key and certificate, for HTTPS from the load balancer (which encrypts to
# targets but does not verify their certificates). The key never leaves the instance.
tls="$root/etc/tap-health"
if [ ! -s "$tls/tls.key" ]; then
  install -d -m 0750 "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=tap-health" \
    -keyout "$tls/tls.key" -out "$tls/tls.crt" 2>/dev/null
fi
chgrp tap-health "$tls" "$tls/tls.key"
chmod 0640 "$tls/tls.key"

release="$root/opt/tap-health/releases/$ARTIFACT_SHA256"
install -d -m 0755 "$release"
python3.11 -m zipfile -e "$work/artifact.zip" "$release"
chmod -R a+rX,go-w "$release"
ln -sfn "$release" "$root/opt/tap-health/current"

install -d -m 0755 "$root/etc" "$root/etc/systemd/system"
install -m 0640 /dev/null "$root/etc/tap-health.env"
chgrp tap-health "$root/etc/tap-health.env"
cat > "$root/etc/tap-health.env" <<ENV
AWS_REGION=$AWS_REGION
TAP_DB_SECRET_ID=$DB_SECRET_ID
TAP_COLOUR=$COLOUR
TAP_BUILD=$ARTIFACT_SHA256
TAP_PORT=$APP_PORT
TAP_SERVICE=$SERVICE_NAME
TAP_TLS_CERT=/etc/tap-health/tls.crt
TAP_TLS_KEY=/etc/tap-health/tls.key
ENV
# Application logs: systemd appends the service's JSON lines here (it opens the file, as root);
# the agent reads them through the directory's group, its own primary group, and ships them to
# the encrypted log group, one stream per instance. Nobody else may read them.
logs="$root/var/log/tap-health"
install -d -m 0750 "$logs"
chgrp cwagent "$logs"
install -d -m 0755 "$root/etc/logrotate.d"
cat > "$root/etc/logrotate.d/tap-health" <<ROTATE
/var/log/tap-health/health.log {
  daily
  rotate 3
  compress
  missingok
  notifempty
  copytruncate
}
ROTATE
agent="$root/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
install -d -m 0755 "$(dirname "$agent")"
cat > "$agent" <<AGENT
{
  "agent": {"run_as_user": "cwagent"},
  "metrics": {
    "namespace": "CWAgent",
    "metrics_collected": {
      "mem": {
        "measurement": ["mem_used_percent"],
        "metrics_collection_interval": 60,
        "append_dimensions": {"AutoScalingGroupName": "$GROUP_NAME"}
      }
    },
    "aggregation_dimensions": [["AutoScalingGroupName"]]
  },
  "logs": {
    "logs_collected": {
      "files": {
        "collect_list": [
          {"file_path": "/var/log/tap-health/health.log", "log_group_name": "$APP_LOG_GROUP",
           "log_stream_name": "{instance_id}", "retention_in_days": -1}
        ]
      }
    }
  }
}
AGENT
amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c "file:$agent"
systemctl enable --now logrotate.timer

install -m 0644 "$release/tap-health.service" "$root/etc/systemd/system/tap-health.service"
systemctl daemon-reload
systemctl enable --now tap-health.service
