"""The project file: its format as a field table (fields), loading and checking project.toml
(loader, reading, schema) into a validated project (specs), the options and workflows of
self-hosted providers (self_hosted), its JSON Schema for editors (json_schema), paths, the
storyboard stage, and writing a project from a brief (brief, brief_toml).

Import from the modules (``loader`` for Project, ProjectError, load_project, parse_project):
the schema and field table stay light for editors' tooling, while the loader needs Pillow to
check reference images."""
