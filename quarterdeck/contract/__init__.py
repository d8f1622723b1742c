"""The data contract: the entities Quarterdeck accepts and the rules their rows must meet."""

from quarterdeck.contract.entities import ENTITIES, Column, Entity, entity, loading_order

__all__ = ["ENTITIES", "Column", "Entity", "entity", "loading_order"]
