#!/bin/sh
# Shows who the container runs as and that the app can read its own private file.
echo "$GREETING"
echo "running as: $(id)"
echo "home: $HOME"
ls -ln /app
printf 'secret.conf: '
cat /app/secret.conf
