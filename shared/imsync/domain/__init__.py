"""Pure decisions: images, policies, the IMS copy rules and the planner. Standard library only."""
