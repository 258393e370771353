"""Use cases of the web app: they turn rows into optimizer objects and back."""
