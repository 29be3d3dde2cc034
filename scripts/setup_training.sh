#!/usr/bin/env bash
# Extra photographs for training textures (never committed): the nature photos of Debian's
# mate-backgrounds, linked into $LOFTR_ROS_CACHE/textures (default ~/.cache/loftr_ros/textures).
# Pass that folder to `loftr-ros train --extra-textures`. Needs root for apt-get; skipped if present.
set -euo pipefail
cache=${LOFTR_ROS_CACHE:-$HOME/.cache/loftr_ros}
textures=$cache/textures
if [ ! -d /usr/share/backgrounds/mate/nature ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mate-backgrounds
fi
mkdir -p "$textures"
for photo in /usr/share/backgrounds/mate/nature/*.jpg; do
  ln -sf "$photo" "$textures/mate-$(basename "$photo")"
done
echo "[setup-training] $(find "$textures" -maxdepth 1 -name '*.jpg' | wc -l) photos in $textures"
