"""The project file: loading and checking project.toml (loader, schema), paths, the storyboard
stage, and writing a project from a brief (brief, brief_toml)."""
