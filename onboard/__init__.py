"""onboarding-paths: raw product events to onboarding actions."""
