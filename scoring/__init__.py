"""An operator's scoring model (TRIBUNE_SCORER_URL): a Perspective-compatible HTTP service that
scores new comments from `tribune worker`, never from the post (docs/design.md, "The scoring
model")."""
