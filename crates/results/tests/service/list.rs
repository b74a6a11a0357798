//! ListJobs: newest first, page by page, with opaque tokens.

use std::time::Duration;

use tanksim_broker::MemoryStore;
use tanksim_proto::v1;

use crate::harness::*;

#[tokio::test]
async fn pages_walk_every_job_newest_first() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let layout = Layout { runs: 10, chunk_size: 10 };
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(create_job_at(&store, &monte_carlo_spec(10), layout, 1_000 + i).await);
    }
    ids.reverse();

    let mut jobs = service.jobs().await;
    let (mut seen, mut token, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let page = jobs
            .list_jobs(v1::ListJobsRequest { page_size: 3, page_token: token.clone() })
            .await
            .expect("list")
            .into_inner();
        pages += 1;
        assert!(page.jobs.len() <= 3);
        seen.extend(page.jobs.into_iter().map(|j| j.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!((seen, pages), (ids.clone(), 3));

    let all = jobs.list_jobs(v1::ListJobsRequest::default()).await.expect("list").into_inner();
    assert_eq!(all.jobs.len(), 7);
    assert!(all.next_page_token.is_empty());
    service.stop().await;
}
