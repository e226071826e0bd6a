"""Pure logic: no files, no network, no tracking. Everything here is a function of its inputs."""
