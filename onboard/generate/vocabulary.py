"""Word lists and codes the demo data is drawn from.

Codes are indexes into these tuples; numpy arrays of codes become text only when a chunk
is written, through `onboard.generate.text.pick`. The plan tiers and the tracks are the
project's (vars `plan_tiers`, `tracks`, read by `onboard.generate.rules`); the simulation
names the ones it draws, and a var that lacks one is a ConfigError.
"""

from __future__ import annotations

from onboard.generate.rules import codes, project_vars

TIERS = project_vars().plan_tiers
FREE, TRIAL, PRO, ENTERPRISE = codes(
    TIERS, ("free", "trial", "pro", "enterprise"), "vars.plan_tiers (the tiers onboard generate draws)"
)

TRACKS = project_vars().tracks
HIGH_TOUCH, STANDARD, SELF_SERVE = codes(
    TRACKS, ("high_touch", "standard", "self_serve"), "vars.tracks (the tracks onboard generate draws)"
)

# codes into onboard.core.raw_tables.SUBSCRIPTION_STATUSES and EMAIL_EVENT_TYPES
TRIALING, ACTIVE, PAST_DUE, CANCELLED, DELETED = range(5)
SENT, DELIVERED, OPENED, CLICKED, BOUNCED, UNSUBSCRIBED, SPAM_REPORTED = range(7)

CAMPAIGNS = (
    "onboarding_welcome",
    "onboarding_import_data",
    "onboarding_first_query",
    "onboarding_query_tips",
    "onboarding_invite_team",
    "onboarding_integrations",
    "onboarding_tutorial",
    "onboarding_checkin",
    "onboarding_recovery",
    "onboarding_last_call",
)

FIRST_NAMES = (
    "ada", "alan", "amara", "anna", "ben", "carla", "chen", "dana", "david", "elena",
    "emma", "farid", "grace", "hana", "ivan", "jamal", "jia", "jonas", "julia", "kofi",
    "lara", "leo", "lina", "luca", "maria", "mateo", "mei", "nadia", "noah", "olga",
    "omar", "paula", "priya", "rafael", "ravi", "sara", "sofia", "tariq", "tom", "yuki",
)  # fmt: skip
LAST_NAMES = (
    "adams", "ahmed", "baker", "becker", "brown", "chen", "costa", "davis", "diaz", "dubois",
    "evans", "fischer", "garcia", "gupta", "hansen", "ito", "jensen", "kim", "kowalski", "lee",
    "lopez", "martin", "meyer", "moreau", "nguyen", "novak", "okafor", "patel", "petrov",
    "rossi", "sato", "schmidt", "silva", "smith", "tanaka", "wagner", "wang", "weber", "wong",
    "young",
)  # fmt: skip

COMPANY_WORDS = (
    "Acme", "Blue", "Bright", "Cedar", "Copper", "Delta", "Ember", "Falcon", "Granite",
    "Harbor", "Helix", "Indigo", "Juniper", "Kite", "Lumen", "Maple", "Nimbus", "North",
    "Orbit", "Pine", "Quartz", "River", "Signal", "Summit", "Tidal", "Vector", "Willow", "Zenith",
)  # fmt: skip
COMPANY_NOUNS = (
    "Analytics", "Labs", "Systems", "Health", "Logistics", "Retail", "Capital", "Media",
    "Robotics", "Foods", "Energy", "Software", "Studios", "Networks", "Works", "Partners",
)  # fmt: skip
COMPANY_SUFFIXES = ("Inc", "Ltd", "GmbH", "LLC", "BV", "SAS")

INDUSTRIES = (
    "software", "fintech", "healthcare", "retail", "manufacturing", "education",
    "media", "logistics", "energy", "public_sector",
)  # fmt: skip
ROLES = ("analyst", "data_engineer", "engineer", "product_manager", "founder", "marketing", "ops")
SIGNUP_SOURCES = ("web", "google_sso", "github_sso", "invite", "marketplace")
UTM_SOURCES = ("google", "linkedin", "newsletter", "partner", "g2", "twitter")

INTEGRATIONS = (
    "salesforce", "hubspot", "slack", "snowflake", "bigquery", "postgres", "stripe", "zendesk",
)  # fmt: skip

CSM_OWNERS = ("Alice Moreno", "Brian Osei", "Chloe Park", "Daniel Weiss", "Esther Lund")
AUDITORS = ("Dana Whitfield", "Marco Ruiz", "Priya Natarajan", "Tom Becker")

# Unusable-row texts (docs/definitions.md#unusable-rows).
UNKNOWN_EVENT_NAMES = ("signup_complete", "page_viewed", "Query_Run", "query-run", "app_opened")
BAD_TIMESTAMPS = ("not-a-date", "2026-13-45T99:00:00Z", "yesterday", "1970-01-01 25:61")
BAD_PROPERTIES = ("not json", "[1,2]", '"text"', "{bad")
INVALID_TIERS = ("Pro", "Enterprise", "premium", "FREE")
