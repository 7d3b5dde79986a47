"""The HTTP plumbing the REST adapters share: a key kept out of reprs, status codes mapped to the
provider errors, image fetching and checks. Private to providers/."""
