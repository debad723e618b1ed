// The page's one way to reach an element: by its id in index.html.
export const $ = id => document.getElementById(id);
