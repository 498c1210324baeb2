"""The GraphQL documents the workflow tests send, as a partner's client would."""

from __future__ import annotations

ERRORS = "errors { code message }"
NEED_FIELDS = """id status
  reportedBy { code } verifiedBy { code } holder { code }
  history { fromStatus toStatus note organization { code } }"""
#: Everything a foundation needs to deliver: who, where, how to reach them.
DELIVERY = "citizen { id nik fullName phone household { address rt rw } }"

REPORT = f"""mutation($input: ReportNeedInput!) {{
  reportNeed(input: $input) {{ need {{ {NEED_FIELDS} }} {ERRORS} }}
}}"""
VERIFY = f"""mutation($id: ID!, $note: String) {{
  verifyNeed(id: $id, note: $note) {{ need {{ {NEED_FIELDS} }} {ERRORS} }}
}}"""
REFER = f"""mutation($id: ID!, $to: String!, $note: String) {{
  referNeed(id: $id, to: $to, note: $note) {{ need {{ {NEED_FIELDS} }} {ERRORS} }}
}}"""
PLEDGE = f"""mutation($id: ID!, $days: Int) {{
  pledgeNeed(id: $id, days: $days) {{
    need {{ {NEED_FIELDS} {DELIVERY} }}
    pledge {{ pledgedAt expiresAt }}
    warnings {{ kind categoryCode programCode contributionId organizationCode on message }}
    {ERRORS}
  }}
}}"""
RELEASE = f"""mutation($id: ID!, $reason: String!) {{
  releasePledge(id: $id, reason: $reason) {{ need {{ {NEED_FIELDS} }} {ERRORS} }}
}}"""
CLOSE = f"""mutation($id: ID!, $outcome: CloseOutcome!, $reason: String) {{
  closeNeed(id: $id, outcome: $outcome, reason: $reason) {{ need {{ {NEED_FIELDS} }} {ERRORS} }}
}}"""
RECORD = f"""mutation($input: RecordContributionInput!) {{
  recordContribution(input: $input) {{
    contribution {{ id kind amount quantity unit deliveredOn evidenceSha256
                   need {{ id }} organization {{ code }} category {{ code }} }}
    created
    warnings {{ kind programCode contributionId organizationCode message }}
    {ERRORS}
  }}
}}"""
#: A need as its reader sees it, with the person's delivery details.
NEED = f"""query($id: ID!) {{
  node(id: $id) {{ ... on Need {{ {NEED_FIELDS} {DELIVERY} }} }}
}}"""
CITIZEN = """query($id: ID!) {
  node(id: $id) { ... on Citizen { nik fullName phone household { address rt rw } } }
}"""
OPEN_NEEDS = f"""query($after: String) {{
  needs(first: 100, after: $after, filter: {{status: [OPEN]}}) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ id {DELIVERY} }}
  }}
}}"""
STATS = """{ stats {
  asOf
  needs { kecamatanCode categoryCode open pledged fulfilled kecamatan { name } category { code } }
  contributions { organizationCode categoryCode month amountRupiah contributions
                  organization { code kind } category { code } }
  fulfilment { medianDays fulfilledNeeds }
  partnerFunding { totalRupiah potentialRupiah share byMonth { month amountRupiah
                   runningTotalRupiah } }
} }"""
