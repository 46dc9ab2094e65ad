"""What the multiclass and regression evaluation pages add to the stored report, and the page
comparing evaluations. Like `console.model_charts`, plain data in and out: no requests here."""
