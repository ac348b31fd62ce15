"""The rows a route's path names, as dependencies: the caller's project's flow, generation,
image, namespace or live scope, or that feature's 404 (`deps.project_row`)."""

from __future__ import annotations

from typing import Annotated

from banatie.deps import project_row
from banatie.flows import manage as flows
from banatie.flows.models import Flow
from banatie.generation import service as generations
from banatie.generation.models import Generation
from banatie.images import service as images
from banatie.images.models import Image
from banatie.live import admin as live
from banatie.live.models import LiveScope
from banatie.namespaces import service as namespaces
from banatie.namespaces.models import Namespace

#: `flow_id` (404 FLOW_NOT_FOUND).
FlowDep = Annotated[Flow, project_row(flows.get, "flow_id")]
#: `generation_id` (404 GENERATION_NOT_FOUND).
GenerationDep = Annotated[Generation, project_row(generations.get, "generation_id")]
#: `ref`: an image id or alias (404 IMAGE_NOT_FOUND).
ImageDep = Annotated[Image, project_row(images.resolve_ref, "ref")]
#: `slug` (404 NAMESPACE_NOT_FOUND).
NamespaceDep = Annotated[Namespace, project_row(namespaces.get, "slug")]
#: `slug`, spelled like a live URL's `scope` (404 SCOPE_NOT_FOUND).
ScopeDep = Annotated[LiveScope, project_row(live.find_scope, "slug")]
