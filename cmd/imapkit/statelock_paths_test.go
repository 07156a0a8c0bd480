package main

// statePath, legacyStatePath, importStatePath and legacyImportStatePath
// are the tests' names for where export's and import's states are kept
// (stateJob.statePath) and where an imapkit before stop 60 kept them
// (stateJob.legacy).
func statePath(path string) string             { return exportJob.statePath(path) }
func legacyStatePath(path string) string       { return exportJob.legacy(path) }
func importStatePath(path string) string       { return importJob.statePath(path) }
func legacyImportStatePath(path string) string { return importJob.legacy(path) }
