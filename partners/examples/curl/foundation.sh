#!/usr/bin/env bash
# A foundation's first journey on the Satu Pintu Hub with curl:
# token -> feed -> pledge -> delivery details -> contribution (and its harmless retry).
# Reads HUB_URL, CLIENT_ID and CLIENT_SECRET; EVIDENCE_FILE optionally names the evidence.
# Uses jq when installed (NO_JQ=1 to do without), else python3 and its json.tool.
set -euo pipefail
HUB_URL="${HUB_URL%/}"

if [ "${NO_JQ:-}" != 1 ] && command -v jq >/dev/null; then
  pretty() { jq .; }
  pick() { jq -r "$1"; }                      # pick '.data.needs.nodes[0].id'
  body() { jq -cn --arg q "$1" --argjson v "$2" '{query: $q, variables: $v}'; }
else
  pretty() { python3 -m json.tool; }
  pick() {
    python3 -c '
import json, re, sys
value = json.load(sys.stdin)
for name, index in re.findall(r"\.(\w+)|\[(\d+)\]", sys.argv[1]):
    value = value[name] if name else value[int(index)]
print("null" if value is None else value if isinstance(value, str) else json.dumps(value))
' "$1"
  }
  body() {
    python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1], "variables": json.loads(sys.argv[2])}))' "$1" "$2"
  }
fi

# 1. A token: client credentials, the secret sent with HTTP Basic.
TOKEN=$(curl -sS --fail-with-body -u "$CLIENT_ID:$CLIENT_SECRET" \
  -d grant_type=client_credentials "$HUB_URL/oauth/token" | pick .access_token)

graphql() {  # graphql QUERY VARIABLES_JSON
  curl -sS --fail-with-body "$HUB_URL/graphql" \
    -H "Authorization: Bearer $TOKEN" \
    -H "X-Purpose: SERVICE_DELIVERY" \
    -H "Content-Type: application/json" \
    --data "$(body "$1" "$2")"
}

# 2. The feed: open needs in the foundation's categories and kecamatan, most urgent first.
FEED=$(graphql 'query Feed {
  me { clientId organization { name } }
  needs(first: 10, filter: {status: [OPEN]}, orderBy: URGENT) {
    totalCount
    nodes { id severity waitingDays category { code } kecamatan { name } citizen { id fullName } }
  }
}' '{}')
echo "$FEED" | pretty
echo "signed in as $(echo "$FEED" | pick .data.me.clientId)"
echo "feed: $(echo "$FEED" | pick .data.needs.totalCount) open needs"

# 3. Pledge the first need we can; the pledge unlocks the delivery details.
PLEDGED=""
for i in 0 1 2 3 4 5 6 7 8 9; do
  NEED=$(echo "$FEED" | pick ".data.needs.nodes[$i].id")
  PLEDGE=$(graphql 'mutation Pledge($id: ID!) {
    pledgeNeed(id: $id) {
      pledge { expiresAt }
      need { citizen { fullName phone household { address rt rw } } }
      errors { code message }
    }
  }' "{\"id\": \"$NEED\"}")
  if [ "$(echo "$PLEDGE" | pick .data.pledgeNeed.errors)" = "[]" ]; then PLEDGED=$i; break; fi
  echo "cannot pledge $NEED: $(echo "$PLEDGE" | pick .data.pledgeNeed.errors[0].code)"
done
[ -n "$PLEDGED" ] || { echo "no need could be pledged"; exit 1; }
echo "pledged $NEED until $(echo "$PLEDGE" | pick .data.pledgeNeed.pledge.expiresAt)"
PERSON=.data.pledgeNeed.need.citizen
echo "deliver to: $(echo "$PLEDGE" | pick $PERSON.fullName)," \
  "$(echo "$PLEDGE" | pick $PERSON.household.address)" \
  "RT $(echo "$PLEDGE" | pick $PERSON.household.rt)/RW $(echo "$PLEDGE" | pick $PERSON.household.rw)"

# 4. Record the delivery: the evidence's SHA-256 and a fresh idempotency key.
CITIZEN=$(echo "$FEED" | pick ".data.needs.nodes[$PLEDGED].citizen.id")
CATEGORY=$(echo "$FEED" | pick ".data.needs.nodes[$PLEDGED].category.code")
if [ -n "${EVIDENCE_FILE:-}" ]; then
  EVIDENCE=$(sha256sum "$EVIDENCE_FILE" | cut -d' ' -f1)
else
  EVIDENCE=$(printf 'Tanda terima paket sembako, contoh' | sha256sum | cut -d' ' -f1)
fi
KEY=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen)
INPUT="{\"input\": {\"citizen\": \"$CITIZEN\", \"need\": \"$NEED\", \"category\": \"$CATEGORY\",
  \"kind\": \"IN_KIND\", \"amount\": 350000, \"quantity\": 1, \"unit\": \"paket\",
  \"deliveredOn\": \"$(date +%F)\", \"evidenceSha256\": \"$EVIDENCE\", \"idempotencyKey\": \"$KEY\"}}"
RECORD='mutation Record($input: RecordContributionInput!) {
  recordContribution(input: $input) { created contribution { id } errors { code message } }
}'
FIRST=$(graphql "$RECORD" "$INPUT")
echo "$FIRST" | pretty
[ "$(echo "$FIRST" | pick .data.recordContribution.errors)" = "[]" ] || exit 1
ID=$(echo "$FIRST" | pick .data.recordContribution.contribution.id)
echo "recorded $ID (created: $(echo "$FIRST" | pick .data.recordContribution.created))"
# As if the answer had been lost: the same request again, with the same key.
RETRY=$(graphql "$RECORD" "$INPUT")
SAME=$([ "$(echo "$RETRY" | pick .data.recordContribution.contribution.id)" = "$ID" ] && echo true || echo false)
echo "retry with the same key: created: $(echo "$RETRY" | pick .data.recordContribution.created), same record: $SAME"
