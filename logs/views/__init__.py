"""Dashboard views: thin, declarative; the query lives in filtersets and selectors."""
