#!/usr/bin/env bash
# Fails when a module includes a module it must not depend on (DESIGN.md section 3):
# protocol -> storage/broker/server/client, storage -> protocol/broker/server/client,
# broker -> protocol/server/client or Asio sockets, base -> any module, tools -> any module.
set -u
status=0
check() {  # folder, forbidden include regex, reason
  local hits
  hits=$(grep -rnE "$2" "$1" --include='*.h' --include='*.cc' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering violation: $3"
    echo "$hits"
    status=1
  fi
}
check base '#include "(protocol|storage|broker|client|server)/' "base depends on nothing"
check protocol '#include "(storage|broker|client|server)/' "protocol is a pure codec"
check storage '#include "(protocol|broker|client|server)/' "storage knows nothing of AMQP"
check broker '#include "(protocol|server|client)/|boost/asio/(ip|.*socket)|boost/beast' "the core never sees frames or sockets"
check client '#include "server/' "client does not depend on the server"
check tools '#include "(base|protocol|storage|broker|client|server)/' "tools use only the HTTP API"
[ $status -eq 0 ] && echo "layering ok"
exit $status
