"""The stream processor (Faust): the imperative shell around the detection core."""
