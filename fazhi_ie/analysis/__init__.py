"""Working with extracted facts, apart from the extraction path: fact tables (`tables`), metric keys
(`metric_keys`), the HTML review page (`html_view`), corpus statistics (`stats`), scoring against
gold (`evaluation`) and the annotation consistency audit (`audit`). Nothing on the extraction path
imports these."""
