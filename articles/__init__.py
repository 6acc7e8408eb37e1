"""Articles: registered by the CMS (or the demo seed), never created implicitly."""
