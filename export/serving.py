"""TF Serving's REST JSON mapping, for clients and for tests without a server.

TF Serving's REST API (``POST /v1/models/<name>:predict``) accepts two request
shapes (https://www.tensorflow.org/tfx/serving/api_rest#request_format_2):

- row format, ``{"instances": [...]}``: one list entry per example, without
  a batch dimension; a bare value when the signature has one input, or an
  object ``{input name: value}``. Entries are stacked along a new batch axis.
  The response is ``{"predictions": [...]}``: per example, a bare value when
  the signature has one output, else ``{output name: value}``.
- columnar format, ``{"inputs": ...}``: a value holding the batch dimension
  (one input) or ``{input name: batched value}``. The response is
  ``{"outputs": value}`` (one output) or ``{"outputs": {name: value}}``.

JSON numbers are converted to the signature's dtype; a number that does not
fit (e.g. 300 for a uint8 input) is an error, as in TF Serving.

Example request for a keras_zoo classifier exported with `to_saved_model`::

    curl -d '{"instances": [[[[0, 0, 0], ...]]]}' \\
        http://localhost:8501/v1/models/resnet20:predict
    # -> {"predictions": [[0.01, 0.93, ...]]}
"""

import numpy as np


def rest_request(inputs, *, format="instances"):
    """A JSON-able TF Serving predict request for batched `inputs`.

    Args:
        inputs: an array (single-input signature) or `{input name: array}`,
            each with a leading batch dimension.
        format: `"instances"` (row) or `"inputs"` (columnar).
    """
    if format == "inputs":
        if isinstance(inputs, dict):
            return {"inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()}}
        return {"inputs": np.asarray(inputs).tolist()}
    if format != "instances":
        raise ValueError(f"Expected format 'instances' or 'inputs'. Received: format={format!r}")
    if isinstance(inputs, dict):
        arrays = {k: np.asarray(v) for k, v in inputs.items()}
        n = len(next(iter(arrays.values())))
        return {"instances": [{k: v[i].tolist() for k, v in arrays.items()} for i in range(n)]}
    return {"instances": [row.tolist() for row in np.asarray(inputs)]}


def _to_dtype(value, dtype, name):
    array = np.asarray(value)
    dtype = np.dtype(dtype)
    if array.dtype == object:
        raise ValueError(f"Expected a rectangular array for input {name!r}. Received: ragged lists")
    if np.issubdtype(dtype, np.integer):
        if array.size and not np.all(np.equal(np.mod(array, 1), 0)):
            raise ValueError(f"Expected integers for {dtype} input {name!r}. Received: fractions")
        info = np.iinfo(dtype)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise ValueError(
                f"Expected values in [{info.min}, {info.max}] for {dtype} input {name!r}. "
                f"Received: values in [{array.min()}, {array.max()}]")
    return array.astype(dtype)


def parse_rest_request(payload, input_dtypes):
    """Turns a REST predict body into the signature's input arrays, as TF Serving does.

    Args:
        payload: the decoded JSON body (dict).
        input_dtypes: `{input name: numpy dtype}` of the signature.

    Returns:
        `{input name: np.ndarray}` with a leading batch dimension.
    """
    names = list(input_dtypes)
    if ("instances" in payload) == ("inputs" in payload):
        raise ValueError(
            "Expected exactly one of 'instances' or 'inputs' in the request. "
            f"Received: keys={sorted(payload)}")
    if "inputs" in payload:
        columns = payload["inputs"]
        if not (isinstance(columns, dict) and set(columns) <= set(names) and columns):
            if len(names) != 1:
                raise ValueError(f"Expected an object keyed by {names}. Received: {type(columns)}")
            columns = {names[0]: columns}
        return {k: _to_dtype(v, input_dtypes[k], k) for k, v in columns.items()}
    rows = payload["instances"]
    if not isinstance(rows, list) or not rows:
        raise ValueError("Expected a non-empty list of instances. Received: " + repr(type(rows)))
    stacked = {}
    for name in names:
        if len(names) == 1 and not isinstance(rows[0], dict):
            values = rows
        else:
            values = [row[name] for row in rows]
        stacked[name] = _to_dtype(values, input_dtypes[name], name)
    return stacked


def rest_response(outputs, *, format="instances"):
    """The JSON body TF Serving returns for `{output name: batched array}`."""
    arrays = {k: np.asarray(v) for k, v in outputs.items()}
    if format == "inputs":
        if len(arrays) == 1:
            return {"outputs": next(iter(arrays.values())).tolist()}
        return {"outputs": {k: v.tolist() for k, v in arrays.items()}}
    n = len(next(iter(arrays.values())))
    if len(arrays) == 1:
        return {"predictions": [row.tolist() for row in next(iter(arrays.values()))]}
    return {"predictions": [{k: v[i].tolist() for k, v in arrays.items()} for i in range(n)]}
