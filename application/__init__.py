"""Use cases of the SCF bridge and the ports (typing.Protocol) they drive."""
