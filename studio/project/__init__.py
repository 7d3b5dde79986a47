"""The project file: its format as a field table (fields), loading and checking project.toml
(loader, schema), its JSON Schema for editors (json_schema), paths, the storyboard stage, and
writing a project from a brief (brief, brief_toml)."""
