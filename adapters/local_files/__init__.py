"""This machine's folders of generated files (rule B8): the `LocalFiles` port on the OS."""

from adapters.local_files.folders import LocalFolders

__all__ = ["LocalFolders"]
