"""Image files: reading and writing containers, the recipe and A1111 infotext embedded in them,
thumbnails and contact sheets."""
