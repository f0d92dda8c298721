"""The Teams app manifest and icons, and `package.py`, which builds the app package to upload."""
